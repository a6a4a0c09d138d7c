from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inference.scores import ScoreError
from webapp.courses import selectors, services
from webapp.courses.forms import CourseForm, JoinForm, LessonForm, LessonSettingsForm
from webapp.courses.models import Course, Lesson


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("courses:list")
    return render(request, "home.html")


@login_required
def course_list(request: HttpRequest) -> HttpResponse:
    courses = selectors.courses_for(request.user).select_related("instructor")
    return render(request, "courses/list.html", {"courses": courses, "join_form": JoinForm()})


@login_required
def course_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_instructor:
        raise PermissionDenied("Only instructors can create courses.")
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        course = services.create_course(request.user, **form.cleaned_data)
        messages.success(request, f"Course created. Learners join with class code {course.class_code}.")
        return redirect("courses:detail", course_id=course.pk)
    return render(request, "courses/create.html", {"form": form})


@login_required
def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _visible_course(request, course_id)
    context = {
        "course": course,
        "lessons": course.lessons.select_related("piece"),
        "can_manage": selectors.can_manage_course(request.user, course),
        "learner_count": course.enrollments.count(),
    }
    return render(request, "courses/detail.html", context)


@login_required
@require_POST
def course_join(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a class code.")
        return redirect("courses:list")
    try:
        course = services.join_course(request.user, form.cleaned_data["class_code"])
    except services.JoinError as exc:
        messages.error(request, str(exc))
        return redirect("courses:list")
    messages.success(request, f"You joined {course.title}.")
    return redirect("courses:detail", course_id=course.pk)


@login_required
def lesson_create(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _visible_course(request, course_id)
    if not selectors.can_manage_course(request.user, course):
        raise PermissionDenied("Only the course's instructor can add lessons.")
    form = LessonForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["score"]
        try:
            piece = services.upload_piece(request.user, upload.read(), upload.name)
        except ScoreError as exc:
            form.add_error("score", str(exc))
        else:
            lesson = services.create_lesson(course, piece, **form.settings())
            messages.success(request, f"Lesson '{lesson.title}' added ({piece.note_count} notes).")
            return redirect("courses:detail", course_id=course.pk)
    return render(
        request, "courses/lesson_create.html", {"form": form, "course": course}, status=400 if form.errors else 200
    )


@login_required
def lesson_edit(request: HttpRequest, course_id: int, lesson_id: int) -> HttpResponse:
    course = _visible_course(request, course_id)
    if not selectors.can_manage_course(request.user, course):
        raise PermissionDenied("Only the course's instructor can change its lessons.")
    lesson = get_object_or_404(Lesson.objects.select_related("piece"), pk=lesson_id, course=course)
    form = LessonSettingsForm.for_lesson(lesson, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.update_lesson(lesson, **form.settings())
        messages.success(request, f"Lesson '{lesson.title}' saved. New takes use these settings.")
        return redirect("courses:detail", course_id=course.pk)
    context = {"form": form, "course": course, "lesson": lesson}
    return render(request, "courses/lesson_edit.html", context, status=400 if form.errors else 200)


def _visible_course(request: HttpRequest, course_id: int) -> Course:
    course = get_object_or_404(Course, pk=course_id)
    if not selectors.can_view_course(request.user, course):
        raise Http404("No such course.")
    return course
