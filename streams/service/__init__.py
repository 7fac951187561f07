"""The running worker: composition root, web API and lifecycle; the only module family that imports
Faust."""
