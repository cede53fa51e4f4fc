"""Views of a visit: the browser app (:mod:`motorlab.ui.web`)."""
