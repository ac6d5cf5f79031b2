"""The stream processor runtime: library API (``StreamProcessor``, ``Message``) and the CLI."""

from runtime.config import ConfigError
from runtime.message import Message
from runtime.processor import MappingInfo, Metrics, StreamProcessor

__all__ = ["ConfigError", "MappingInfo", "Message", "Metrics", "StreamProcessor"]
