"""The live stream (DESIGN.md §5): brokers, the per-worker hub, /ws/live, the reference client.

See docs/live-stream.md.
"""
