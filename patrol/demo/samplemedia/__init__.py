"""Sample new-media accounts (feeds, exports, a JavaScript page) for the demo and the tests.

    server, base = serve(root)          # start serving first: the feeds carry its URL
    manifest = build(root, today, base) # manifest["accounts"] are `newmedia:` config entries
"""
from patrol.demo.samplemedia.build import build
from patrol.demo.samplemedia.server import serve

__all__ = ["build", "serve"]
