"""Transfer methods. Each module holds one method's model and exposes ``build(spec, train,
source_dev) -> Tagger``; ``xlt.methods.common.run_method`` trains, selects and writes."""
from xlt.methods.registry import IMPLEMENTED, is_implemented

__all__ = ["IMPLEMENTED", "is_implemented"]
