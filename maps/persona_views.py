"""Persona pages: the list, one persona's maps, pain points and KPIs, and the forms
journey owners curate them with (``maps.personas`` holds the rules)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from governance import permissions

from . import personas
from .models import Persona

app_name = "personas"


class PersonaForm(forms.ModelForm):
    class Meta:
        model = Persona
        fields = ("name", "slug", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}
        help_texts = {
            "slug": "Its address and its name in exports; left empty, it is made from the name.",
            "description": "Who they are, what they need, what they fear: what the team "
            "keeps in mind when mapping for them.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False


@require_GET
def persona_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "maps/personas.html",
        {
            "rows": personas.personas_for(request.user),
            "can_edit": permissions.can_edit_personas(request.user),
        },
    )


@require_GET
def persona_detail(request: HttpRequest, slug: str) -> HttpResponse:
    persona = get_object_or_404(Persona, slug=slug)
    return render(
        request,
        "maps/persona_detail.html",
        {
            "overview": personas.persona_overview(persona, request.user),
            "can_edit": permissions.can_edit_personas(request.user),
            "can_delete": permissions.can_delete_personas(request.user),
        },
    )


def _form_page(request: HttpRequest, persona: Persona | None) -> HttpResponse:
    if not permissions.can_edit_personas(request.user):
        raise PermissionDenied("Only journey owners and CX leadership curate personas.")
    # the page names the persona as saved: a refused form has already changed the instance
    saved_as = (persona.name, persona.slug) if persona else None
    form = PersonaForm(request.POST or None, instance=persona)
    if request.method == "POST" and form.is_valid():
        try:
            saved = personas.persona_save(persona=form.save(commit=False), by=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Saved the persona “{saved.name}”.")
            return redirect("personas:detail", slug=saved.slug)
    return render(
        request,
        "maps/persona_form.html",
        {"form": form, "saved_as": saved_as},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def persona_new(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@require_http_methods(["GET", "POST"])
def persona_edit(request: HttpRequest, slug: str) -> HttpResponse:
    return _form_page(request, get_object_or_404(Persona, slug=slug))


@require_http_methods(["POST"])
def persona_delete(request: HttpRequest, slug: str) -> HttpResponse:
    persona = get_object_or_404(Persona, slug=slug)
    if not permissions.can_delete_personas(request.user):
        raise PermissionDenied("Only CX leadership and admins delete personas.")
    personas.persona_delete(persona=persona, by=request.user)
    messages.success(
        request, f"Deleted the persona “{persona.name}”; its maps keep existing without it."
    )
    return redirect("personas:list")


urlpatterns = [
    path("", persona_list, name="list"),
    path("new/", persona_new, name="new"),
    path("<slug:slug>/", persona_detail, name="detail"),
    path("<slug:slug>/edit/", persona_edit, name="edit"),
    path("<slug:slug>/delete/", persona_delete, name="delete"),
]
