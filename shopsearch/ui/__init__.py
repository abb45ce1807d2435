"""The gradio faces: one module per tab, every user-facing string (text.py), shared state (context.py), plotly
figures. The only layer that imports gradio.

May import: every layer.
"""
