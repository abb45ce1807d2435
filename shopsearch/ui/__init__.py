"""The Gradio layer: each tab builds its components and translates domain errors into gr.Error."""
