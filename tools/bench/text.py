"""How the report writes numbers, in its tables and its sentences alike."""


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"
