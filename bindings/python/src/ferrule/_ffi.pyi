# Type stub for the SWIG-generated low-level module (not public API).
from typing import Any

def __getattr__(name: str) -> Any: ...
