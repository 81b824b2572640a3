"""The shopper's Qt view: the window, the page view, the page renderer and its shapes."""
