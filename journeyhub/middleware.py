from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Anonymous users see nothing but the sign-in page.

    The JSON API authenticates on its own (token or session) and answers 401/403 in
    JSON, so it is left to DRF; the interactive API docs are a page and need sign-in.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        path = request.path_info
        if path.startswith("/api/") and not path.startswith("/api/docs/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
