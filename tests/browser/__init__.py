"""The widget in a real headless Chromium."""
