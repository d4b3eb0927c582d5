"""The live stream (docs/live-stream.md): brokers, the per-worker hub, /ws/live, the reference client.

See docs/live-stream.md.
"""
