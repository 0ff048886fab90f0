"""Which onnxruntime execution providers a worker asks for, and saying so when it can't have them.

CUDA comes from the optional ``gpu`` extra (onnxruntime-gpu). A worker configured for CUDA on a
machine without it still starts, on the CPU, and says so in one clear log line: a slow worker is
better than none, and the log tells the operator why it is slow.
"""

from collections.abc import Sequence

import structlog

from config.settings import ExecutionProvider

logger = structlog.stdlib.get_logger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def provider_chain(requested: ExecutionProvider, available: Sequence[str]) -> list[str]:
    """Providers to pass to ``InferenceSession``, most preferred first; always ends with CPU."""
    if requested is ExecutionProvider.CUDA:
        if CUDA in available:
            return [CUDA, CPU]
        logger.warning(
            "execution provider 'cuda' requested but this onnxruntime lacks it; running on CPU "
            "(install the `gpu` extra, onnxruntime-gpu, on a CUDA host)",
            available=", ".join(available) or "nothing",
        )
    return [CPU]


def log_active(requested: ExecutionProvider, active: Sequence[str]) -> str:
    """Log (and return) the provider a session really uses; warn when CUDA fell back to CPU.

    onnxruntime-gpu drops CUDA silently when the driver or CUDA libraries are missing, so the
    session's own list is the only truth.
    """
    used = active[0] if active else CPU
    if requested is ExecutionProvider.CUDA and used != CUDA:
        logger.warning(
            "CUDA could not be initialised (driver or CUDA/cuDNN libraries missing?); "
            "running on CPU"
        )
    else:
        logger.info("inference runs", provider=used)
    return used
