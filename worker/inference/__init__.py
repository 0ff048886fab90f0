"""The model: decode and preprocess a photo, run it on onnxruntime, rank the labels."""
