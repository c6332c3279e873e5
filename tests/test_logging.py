import logging


def _stream_handlers_reached_by(name: str) -> list[logging.Handler]:
    """The handlers a record logged on `name` passes through (as Logger.callHandlers walks)."""
    reached: list[logging.Handler] = []
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None:
        # exact type: pytest adds its own capturing StreamHandler subclasses to the root
        reached.extend(h for h in logger.handlers if type(h) is logging.StreamHandler)
        if not logger.propagate:
            break
        logger = logger.parent
    return reached


def test_a_request_warning_is_printed_once_not_twice():
    # "Not Found: /nope/" used to appear twice in the development server's output.
    assert len(_stream_handlers_reached_by("django.request")) == 1


def test_the_development_server_request_line_is_printed_once():
    assert len(_stream_handlers_reached_by("django.server")) == 1


def test_application_loggers_still_reach_the_console():
    assert len(_stream_handlers_reached_by("maps.imports")) == 1
