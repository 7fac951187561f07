"""The running worker: composition root (:mod:`streams.service.app`), web API, lifecycle, logs.

The only package that imports Faust; :mod:`streams.service.app` says what Faust runs and why
ingestion is a plain aiokafka consumer instead.
"""
