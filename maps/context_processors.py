from django.utils.functional import SimpleLazyObject

from .vocabulary import vocabulary_labels


def vocabulary(request):
    """``vocab``: display names of every concept, loaded lazily once per request."""
    return {"vocab": SimpleLazyObject(vocabulary_labels)}
