"""Sentence embeddings: the encoder and its ONNX int8 backend."""
