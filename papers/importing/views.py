"""Admins' import pages: start an import or a preview, watch it, and decide on previews."""

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from papers import permissions
from papers.http import AuthenticatedRequest
from papers.importing import previews, tasks, uploads
from papers.importing.errors import AnthologyDataError
from papers.models import ImportRun, Preview


class ImportForm(forms.Form):
    archive = forms.FileField(
        required=False,
        help_text="A .tar.gz, .tar.xz or .zip of an Anthology checkout or its data/ folder.",
    )
    server_path = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Or a path on the server: a checkout, its data/ folder, or an archive.",
    )
    preview_name = forms.SlugField(
        required=False,
        max_length=40,
        help_text="Load as a preview with this name, beside the current data, instead of over it.",
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data  # what Form.clean() returns, though typed as maybe None
        if bool(data.get("archive")) == bool(data.get("server_path")):
            raise forms.ValidationError("Upload an archive or name a server path (one of them).")
        path = data.get("server_path")
        if path and not Path(path).exists():
            self.add_error("server_path", "No such file or folder on the server.")
        return data


@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def import_list(request: AuthenticatedRequest) -> HttpResponse:
    runs = ImportRun.objects.select_related("started_by").order_by("-started_at")[:200]
    previews = (
        Preview.objects.filter(status=Preview.Status.READY)
        .select_related("import_run")
        .order_by("-created_at")
    )
    return render(request, "papers/import_list.html", {"runs": runs, "previews": previews})


@permissions.role_required(*permissions.IMPORTERS)
def import_new(request: AuthenticatedRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "papers/import_new.html", {"form": ImportForm()})
    files = request.FILES  # parsed now: the upload handler may refuse the file as it arrives
    refused = getattr(request, "upload_refused", "")
    if refused:
        # What was typed comes back (the file never arrived whole); nothing was stored.
        form = ImportForm(initial=request.POST.dict())
        context = {"form": form, "upload_refused": refused}
        return render(request, "papers/import_new.html", context, status=400)
    form = ImportForm(request.POST, files)
    if form.is_valid():
        try:
            if form.cleaned_data["archive"]:
                source = uploads.upload_store(
                    uploaded_file=form.cleaned_data["archive"],
                    max_bytes=settings.IMPORT_UPLOAD_MAX_BYTES,
                )
            else:
                source = form.cleaned_data["server_path"]
            run = tasks.import_enqueue(
                source=source,
                source_name=form.cleaned_data["archive"].name
                if form.cleaned_data["archive"]
                else str(source),
                user=request.user,
                preview_name=form.cleaned_data["preview_name"],
            )
        except AnthologyDataError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("papers:import_detail", pk=run.pk)
    return render(request, "papers/import_new.html", {"form": form}, status=400)


@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
@vary_on_headers("HX-Request")
def import_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    # polled every second while the import runs: one query for the run and its preview
    run = get_object_or_404(ImportRun.objects.select_related("started_by", "preview"), pk=pk)
    preview = getattr(run, "preview", None)
    context = {"run": run, "preview": preview, "finished": run.finished_at is not None}
    template = "papers/import_detail.html"
    if request.htmx:
        template += "#progress"
    return render(request, template, context)


@require_POST
@permissions.role_required(*permissions.REVIEWERS_OF_CHANGES)
def preview_decide(request: AuthenticatedRequest, name: str) -> HttpResponse:
    preview = get_object_or_404(Preview.objects.select_related("import_run"), name=name)
    action = request.POST.get("action")
    if action in ("promote", "discard") and request.POST.get("confirmed") != "yes":
        # Neither can be undone from here: the server asks first, scripts or not.
        context = {"preview": preview, "action": action}
        return render(request, "papers/preview_confirm.html", context)
    try:
        if action == "promote":
            run = tasks.preview_promote_enqueue(preview=preview, user=request.user)
            messages.success(request, f"Promoting preview {preview.name}: an ordinary import.")
            return redirect("papers:import_detail", pk=run.pk)
        if action == "discard":
            previews.preview_discard(preview=preview)
            messages.success(request, f"Preview {preview.name} discarded.")
            return redirect("papers:import_list")
        messages.error(request, "Choose promote or discard.")
    except AnthologyDataError as exc:
        messages.error(request, str(exc))
    return redirect("papers:import_detail", pk=preview.import_run_id)
