"""The Textual app. The only package that imports Textual; it calls the core's service only.

``securesubmit.cli`` imports ``securesubmit.tui.app`` lazily, when the app is started, so the
command line stays fast and free of Textual.
"""
