"""A generated local government website with known faults: the demo, tests and benchmark use it.

    manifest = build(root, profile="test", today=date.today())
    with serve(root) as server:          # 127.0.0.1 and ::1, plus the external site
        site = manifest.resolve(server.url, server.ext.url)
"""
from __future__ import annotations

from patrol.demo.samplesite.build import PROFILES, build
from patrol.demo.samplesite.manifest import Manifest
from patrol.demo.samplesite.server import SampleServer, free_port, serve

__all__ = ["PROFILES", "Manifest", "SampleServer", "build", "free_port", "serve"]
