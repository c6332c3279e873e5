"""Browser pages for a map's research: its sources, their quotes and attached files, what
they back, and the evidence behind a card of the map grid.

Everyone who may see the map reads them and downloads the files; only its editors add,
change, link and delete (``governance.permissions`` gates: 404 for people who may not
see the map, 403 for people who may see it but not edit it). The rules live in
``maps.research``; these views only turn forms into calls."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import permissions
from governance.permissions import Action

from . import research
from .forms import _https_urls
from .models import (
    Attachment,
    JourneyMap,
    LaneItem,
    PainPoint,
    Persona,
    Quote,
    ResearchSource,
    Step,
    Tag,
)
from .selectors import STEP_ORDER, map_crumbs
from .services import VersionConflict

# --- forms ---------------------------------------------------------------------------


class _EvidenceForm(forms.ModelForm):
    """A source or quote form: the map version it started from, and the steps, pain
    points and lane items of the map it backs (multi-selects, keyboard usable)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    steps = forms.ModelMultipleChoiceField(
        queryset=Step.objects.none(), required=False, label="Steps it backs"
    )
    pain_points = forms.ModelMultipleChoiceField(
        queryset=PainPoint.objects.none(), required=False, label="Pain points it backs"
    )
    lane_items = forms.ModelMultipleChoiceField(
        queryset=LaneItem.objects.none(),
        required=False,
        label="Insights, opportunities, ideas it backs",
    )

    def __init__(self, *args, journey_map: JourneyMap, **kwargs):
        super().__init__(*args, **kwargs)
        # only this map's items are offered; the service refuses any other
        self.fields["steps"].queryset = Step.objects.filter(map=journey_map).order_by(*STEP_ORDER)
        self.fields["pain_points"].queryset = PainPoint.objects.filter(map=journey_map)
        self.fields["lane_items"].queryset = LaneItem.objects.filter(map=journey_map)
        for name in research.EVIDENCE_FIELDS:
            self.fields[name].widget.attrs["size"] = 6
            self.fields[name].help_text = "Ctrl/⌘ or Shift with arrows or clicks selects several."
            if self.instance.pk:
                self.initial[name] = [obj.pk for obj in getattr(self.instance, name).all()]
        self.fields["version"].initial = journey_map.version

    def links(self) -> dict[str, list]:
        return {name: list(self.cleaned_data[name]) for name in research.EVIDENCE_FIELDS}


class SourceForm(_EvidenceForm):
    class Meta:
        model = ResearchSource
        fields = ("kind", "title", "conducted_on", "url", "description")
        widgets = {
            "conducted_on": forms.DateInput(attrs={"type": "date"}),
            "url": forms.URLInput(attrs={"placeholder": "https://"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"conducted_on": "Date", "url": "Link"}
        formfield_callback = _https_urls


class QuoteForm(_EvidenceForm):
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.select_related("group"), required=False
    )

    class Meta:
        model = Quote
        fields = ("text", "persona_hint", "persona", "responded_at")
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4}),
            "responded_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }
        labels = {"persona_hint": "Persona hint", "responded_at": "Said on"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["persona"].queryset = Persona.objects.order_by("name")
        self.fields["tags"].widget.attrs["size"] = 6
        if self.instance.pk:
            self.initial["tags"] = [tag.pk for tag in self.instance.tags.all()]


class UploadForm(forms.Form):
    file = forms.FileField(label="Attach a file")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the limit may change with the settings: say the current one
        self.fields["file"].help_text = (
            f"Up to {research.attachment_max_bytes() // 2**20} MB: "
            f"{research.ALLOWED_EXTENSIONS_TEXT}."
        )


class DeleteForm(forms.Form):
    version = forms.IntegerField(min_value=1)


# --- helpers -------------------------------------------------------------------------


def _map(request: HttpRequest, slug: str, action: Action = Action.VIEW) -> JourneyMap:
    return permissions.get_map_for_user(request.user, slug, action=action)


def _source(journey_map: JourneyMap, pk: int) -> ResearchSource:
    source = ResearchSource.objects.filter(map=journey_map, pk=pk).first()
    if source is None:
        raise Http404("No such research source on this map.")
    source.map = journey_map  # the gate's copy: no query to reach it again
    return source


def _quote(source: ResearchSource, pk: int) -> Quote:
    quote = Quote.objects.filter(source=source, pk=pk).first()
    if quote is None:
        raise Http404("No such quote in this source.")
    quote.source = source
    return quote


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _context(request: HttpRequest, journey_map: JourneyMap, **extra: Any) -> dict:
    return {
        "map": journey_map,
        "crumbs": map_crumbs(journey_map, visible=permissions.visible_maps(request.user)),
        "can_edit": permissions.can_edit_map(request.user, journey_map),
        **extra,
    }


def _research_url(journey_map: JourneyMap) -> str:
    return reverse("maps:research", args=[journey_map.slug])


def _source_url(source: ResearchSource) -> str:
    return reverse("maps:research-source", args=[source.map.slug, source.pk])


# --- pages ---------------------------------------------------------------------------


@require_GET
@login_required
def research_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A map's research: its sources with their kind, date, quotes and files."""
    journey_map = _map(request, slug)
    sources = list(
        ResearchSource.objects.filter(map=journey_map)
        .annotate(quote_count=Count("quotes", distinct=True))
        .select_related("owner")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("name")))
    )
    return render(
        request,
        "maps/research.html",
        _context(request, journey_map, sources=sources, here="Research"),
    )


@require_http_methods(["GET", "POST"])
@login_required
def source_form(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Add a source (no ``pk``) or change one: editors of the map only."""
    journey_map = _map(request, slug, Action.EDIT)
    source = _source(journey_map, pk) if pk else ResearchSource(map=journey_map)
    form = SourceForm(request.POST or None, instance=source, journey_map=journey_map)
    if request.method == "POST" and form.is_valid():
        try:
            research.source_save(
                source=form.save(commit=False),
                expected_version=form.cleaned_data["version"],
                by=request.user,
                links=form.links(),
            )
        except VersionConflict as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Saved the research source “{source.title}”.")
            return redirect(_source_url(source))
    title = f"Edit “{source.title}”" if pk else "Add a research source"
    return render(
        request,
        "maps/research_form.html",
        _context(request, journey_map, form=form, source=source if pk else None, title=title),
    )


@require_POST
@login_required
def source_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    journey_map = _map(request, slug, Action.EDIT)
    source = _source(journey_map, pk)
    form = DeleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The page was too old to delete from; nothing was deleted.")
        return redirect(_source_url(source))
    try:
        research.source_delete(
            source=source, expected_version=form.cleaned_data["version"], by=request.user
        )
    except VersionConflict as exc:
        messages.error(request, str(exc))
        return redirect(_source_url(source))
    messages.success(request, f"Deleted the research source “{source.title}” and its files.")
    return redirect(_research_url(journey_map))


@require_http_methods(["GET", "POST"])
@login_required
def source_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A source with its quotes (tags, persona hint, what each backs) and its files;
    editors upload files here (POST)."""
    journey_map = _map(request, slug)
    source = _source(journey_map, pk)
    can_edit = permissions.can_edit_map(request.user, journey_map)
    upload = None
    if can_edit:
        upload = UploadForm(request.POST or None, request.FILES or None)
    elif request.method == "POST":
        _map(request, slug, Action.EDIT)  # raises the policy's 403
    if upload is not None and request.method == "POST" and upload.is_valid():
        try:
            attachment = research.attachment_add(
                source=source, upload=upload.cleaned_data["file"], by=request.user
            )
        except ValidationError as exc:
            _add_errors(upload, exc)
        else:
            messages.success(request, f"Attached “{attachment.name}”.")
            return redirect(_source_url(source))
    quotes = list(
        source.quotes.select_related("persona").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.select_related("group")),
            "steps",
            "pain_points",
            "lane_items",
        )
    )
    source_links = {
        "steps": list(source.steps.all()),
        "pain_points": list(source.pain_points.all()),
        "lane_items": list(source.lane_items.all()),
    }
    attachments = list(source.attachments.select_related("uploaded_by"))
    status = 400 if upload is not None and upload.errors else 200
    return render(
        request,
        "maps/research_source.html",
        _context(
            request,
            journey_map,
            source=source,
            quotes=quotes,
            source_links=source_links,
            attachments=attachments,
            upload=upload,
            here=source.title,
        ),
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def quote_form(
    request: HttpRequest, slug: str, source_pk: int, pk: int | None = None
) -> HttpResponse:
    journey_map = _map(request, slug, Action.EDIT)
    source = _source(journey_map, source_pk)
    quote = _quote(source, pk) if pk else Quote(source=source)
    form = QuoteForm(request.POST or None, instance=quote, journey_map=journey_map)
    if request.method == "POST" and form.is_valid():
        try:
            research.quote_save(
                quote=form.save(commit=False),
                expected_version=form.cleaned_data["version"],
                by=request.user,
                tags=form.cleaned_data["tags"],
                links=form.links(),
            )
        except VersionConflict as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Saved the quote.")
            return redirect(_source_url(source) + f"#quote-{quote.pk}")
    title = "Edit the quote" if pk else f"Add a quote to “{source.title}”"
    return render(
        request,
        "maps/research_form.html",
        _context(request, journey_map, form=form, source=source, quote=quote, title=title),
    )


@require_POST
@login_required
def quote_delete(request: HttpRequest, slug: str, source_pk: int, pk: int) -> HttpResponse:
    journey_map = _map(request, slug, Action.EDIT)
    source = _source(journey_map, source_pk)
    quote = _quote(source, pk)
    form = DeleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The page was too old to delete from; nothing was deleted.")
        return redirect(_source_url(source))
    try:
        research.quote_delete(
            quote=quote, expected_version=form.cleaned_data["version"], by=request.user
        )
    except VersionConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Deleted the quote.")
    return redirect(_source_url(source))


def _attachment(journey_map: JourneyMap, pk: int) -> Attachment:
    # scoped to the map the gate loaded: another map's file id is a 404 here
    attachment = (
        Attachment.objects.filter(pk=pk, source__map=journey_map).select_related("source").first()
    )
    if attachment is None:
        raise Http404("No such file on this map.")
    attachment.source.map = journey_map
    return attachment


@require_GET
@login_required
def attachment_download(request: HttpRequest, slug: str, pk: int) -> FileResponse:
    """The file, to everyone who may see the map; always as a download, never sniffed."""
    attachment = _attachment(_map(request, slug), pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("This file is missing from the store.") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def attachment_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    journey_map = _map(request, slug, Action.EDIT)
    attachment = _attachment(journey_map, pk)
    research.attachment_delete(attachment=attachment, by=request.user)
    messages.success(request, f"Deleted “{attachment.name}”.")
    return redirect(_source_url(attachment.source))


EVIDENCE_KINDS = {"step": Step, "painpoint": PainPoint, "laneitem": LaneItem}


@require_GET
@login_required
def evidence(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    """The quotes and sources behind one card of the grid: a partial for htmx, a page
    otherwise."""
    journey_map = _map(request, slug)
    model = EVIDENCE_KINDS.get(kind)
    if model is None:
        raise Http404("Evidence backs steps, pain points and lane items.")
    item = permissions.get_content_for_user(request.user, model, pk, journey_map=journey_map)
    quotes, sources = research.evidence_of(item)
    context = _context(request, journey_map, item=item, quotes=quotes, sources=sources)
    if request.htmx:
        return render(request, "maps/partials/research_evidence.html", context)
    context["here"] = f"Research behind “{item}”"
    return render(request, "maps/research_evidence.html", context)
