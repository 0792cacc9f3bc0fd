"""Stills and short non-stepping animations: shapes, parameter counts, pipelines, receptive fields, ...

Each still kind is a function `render_<kind>(spec, *, theme, width) -> list[tuple[np.ndarray, int]]`
returning (RGB uint8 frame, duration_ms) pairs (one pair for a still).
"""
