"""Etude's listening engine: scores, audio, pitch, following and feedback.

Pure Python with numpy/torch/onnxruntime; it never imports Django, so the web process, the inference worker,
the benchmarks and the command-line tools share the same code.
"""
