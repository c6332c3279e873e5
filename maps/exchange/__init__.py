"""The journeyhub/1 exchange format: a map subtree with everything in it as one JSON
document (``docs/exchange.md``). ``export_document`` writes one, ``import_document``
reads one back, all or nothing."""

from .export import export_document
from .importer import ExchangeInvalid, ExchangeSummary, import_document

__all__ = ["ExchangeInvalid", "ExchangeSummary", "export_document", "import_document"]
