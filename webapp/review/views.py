"""Admins review the feedback data: a dashboard of statistics and CSV exports, under the same filters."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from webapp.review import exports, selectors
from webapp.review.forms import ReviewFilterForm


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    context: dict[str, object] = {"form": form, "export_kinds": list(exports.EXPORTS)}
    if not form.is_valid():
        return render(request, "review/dashboard.html", context, status=400)
    filters = form.filters()
    context.update(
        query=form.query_string(),
        is_filtered=filters != selectors.ReviewFilters(),
        takes=selectors.take_statistics(filters),
        tutor=selectors.tutor_statistics(filters),
        composer=selectors.composer_statistics(filters),
        transcripts=selectors.transcript_statistics(filters),
    )
    return render(request, "review/dashboard.html", context)


@login_required
@require_GET
def export(request: HttpRequest, kind: str) -> HttpResponse:
    """``/review/export/<kind>.csv`` under the dashboard's filters, streamed (see ``exports``)."""
    form = _filter_form(request)
    chosen = exports.EXPORTS.get(kind)
    if chosen is None:
        raise Http404("No such export.")
    if not form.is_valid():
        return HttpResponse(_error_text(form), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(exports.csv_chunks(chosen, form.filters()), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="etude-{kind}-{stamp}.csv"'
    return response


def _filter_form(request: HttpRequest) -> ReviewFilterForm:
    """The request's filters, once the user is known to be an admin (everyone else: 403)."""
    if not selectors.can_review(request.user):
        raise PermissionDenied("Only admins review feedback data.")
    return ReviewFilterForm(request.GET)


def _error_text(form: ReviewFilterForm) -> str:
    lines = [f"{'filters' if field == '__all__' else field}: {' '.join(msgs)}" for field, msgs in form.errors.items()]
    return "Bad filters.\n" + "\n".join(lines) + "\n"
