import numpy as np
import numpy.typing as npt

def rows(
    fmt: str,
    ms: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int32],
    vals: npt.NDArray[np.float64],
    na: npt.NDArray[np.uint8],
    is_bool: bool,
    unit: str | None,
    tz_name: str,
) -> bytes: ...
