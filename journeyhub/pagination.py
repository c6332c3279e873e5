from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination as Base


class PageNumberPagination(Base):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        """``?page_size=`` must be a whole number from 1 (DRF would silently ignore
        ``page_size=abc``); above ``max_page_size`` it is capped."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isdigit() and len(raw) <= 9 and int(raw) >= 1):
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return super().get_page_size(request)
