"""Local stand-in for WeChat's API servers, used by the demo and the tests.

The product reaches it through ``WECHAT_API_BASE_URL``. It serves WeChat's
real paths, formats and error codes, records the requests it receives, fails
on request with real errcodes, and pushes real-format event XML to the
product's callback.
"""

from .app import create_sandbox_app

__all__ = ["create_sandbox_app"]
