from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inference.scores import ScoreError
from webapp.courses import grading, selectors, services
from webapp.courses.forms import AssignmentForm, CourseForm, JoinForm, LessonForm, LessonSettingsForm
from webapp.courses.models import Assignment, Course, Lesson


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("courses:list")
    return render(request, "home.html")


@login_required
def course_list(request: HttpRequest) -> HttpResponse:
    courses = selectors.courses_for(request.user).select_related("instructor")
    context = {"courses": courses, "join_form": JoinForm(), "to_do": grading.open_assignments(request.user)}
    return render(request, "courses/list.html", context)


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
    can_manage = selectors.can_manage_course(request.user, course)
    assignments = list(grading.assignments_of(course))
    if can_manage or not assignments:
        mine = [None] * len(assignments)
    else:
        mine = list(grading.grades_for([request.user], assignments)[request.user.pk])
    context = {
        "course": course,
        "lessons": course.lessons.select_related("piece"),
        "can_manage": can_manage,
        "learner_count": course.enrollments.count(),
        "assignments": list(zip(assignments, mine, strict=True)),
        "is_enrolled": course.enrollments.filter(learner=request.user).exists(),
    }
    return render(request, "courses/detail.html", context)


@login_required
def course_edit(request: HttpRequest, course_id: int) -> HttpResponse:
    """The instructor's course settings: title and description, the class code, and who is enrolled."""
    course = _managed_course(request, course_id, "Only the course's instructor can change it.")
    initial = {"title": course.title, "description": course.description}
    form = CourseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.update_course(course, **form.cleaned_data)
        messages.success(request, "Course saved.")
        return redirect("courses:detail", course_id=course.pk)
    enrollments = course.enrollments.select_related("learner").order_by("learner__username")
    context = {"form": form, "course": course, "enrollments": enrollments}
    return render(request, "courses/edit.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def course_new_code(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _managed_course(request, course_id, "Only the course's instructor can change its class code.")
    code = services.renew_class_code(course)
    messages.success(request, f"New class code {code}; the old one no longer admits anyone.")
    return redirect("courses:edit", course_id=course.pk)


@login_required
@require_POST
def course_remove_learner(request: HttpRequest, course_id: int, learner_id: int) -> HttpResponse:
    course = _managed_course(request, course_id, "Only the course's instructor can remove learners.")
    enrollment = get_object_or_404(course.enrollments.select_related("learner"), learner_id=learner_id)
    services.leave_course(enrollment.learner, course)
    messages.success(request, f"{enrollment.learner.username} was removed from the course; their takes are kept.")
    return redirect("courses:edit", course_id=course.pk)


@login_required
@require_POST
def course_leave(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _visible_course(request, course_id)
    if not services.leave_course(request.user, course):
        raise PermissionDenied("You are not enrolled in this course.")
    messages.success(request, f"You left {course.title}. Your takes stay in your history.")
    return redirect("courses:list")


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
    course = _managed_course(request, course_id, "Only the course's instructor can add lessons.")
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
    course = _managed_course(request, course_id, "Only the course's instructor can change its lessons.")
    lesson = get_object_or_404(Lesson.objects.select_related("piece"), pk=lesson_id, course=course)
    form = LessonSettingsForm.for_lesson(lesson, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.update_lesson(lesson, **form.settings())
        messages.success(request, f"Lesson '{lesson.title}' saved. New takes use these settings.")
        return redirect("courses:detail", course_id=course.pk)
    context = {"form": form, "course": course, "lesson": lesson}
    return render(request, "courses/lesson_edit.html", context, status=400 if form.errors else 200)


@login_required
def assignment_edit(request: HttpRequest, course_id: int, assignment_id: int | None = None) -> HttpResponse:
    """Create (no ``assignment_id``) or change an assignment of a course the user manages."""
    course = _managed_course(request, course_id, "Only the course's instructor can set assignments.")
    assignment = get_object_or_404(Assignment, pk=assignment_id, course=course) if assignment_id else None
    if assignment is None:
        form = AssignmentForm(course, request.POST or None)
    else:
        form = AssignmentForm.for_assignment(assignment, request.POST or None)
    if request.method == "POST" and form.is_valid():
        settings = form.settings()
        try:
            saved = services.save_assignment(assignment, course, settings.pop("lesson"), **settings)
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Assignment '{saved.title}' saved.")
            return redirect("courses:detail", course_id=course.pk)
    context = {"form": form, "course": course, "assignment": assignment}
    return render(request, "courses/assignment_edit.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def assignment_delete(request: HttpRequest, course_id: int, assignment_id: int) -> HttpResponse:
    course = _managed_course(request, course_id, "Only the course's instructor can remove assignments.")
    assignment = get_object_or_404(Assignment, pk=assignment_id, course=course)
    assignment.delete()  # its takes stay in the learners' histories (Take.assignment is set to null)
    messages.success(request, f"Assignment '{assignment.title}' removed; its takes stay in the history.")
    return redirect("courses:detail", course_id=course.pk)


@login_required
def course_progress(request: HttpRequest, course_id: int) -> HttpResponse:
    """The instructor's view: every learner's grade on every assignment, and how much they practised."""
    course = _managed_course(request, course_id, "Only the course's instructor can see its progress.")
    context = {
        "course": course,
        "assignments": list(grading.assignments_of(course)),
        "rows": grading.course_progress(course),
    }
    return render(request, "courses/progress.html", context)


@login_required
def learner_progress(request: HttpRequest, course_id: int, learner_id: int) -> HttpResponse:
    """One learner in one course, for their instructor: grades on every assignment and every take."""
    from webapp.practice.models import Take
    from webapp.practice.selectors import with_lesson

    course = _managed_course(request, course_id, "Only the course's instructor can see a learner's progress.")
    enrollment = get_object_or_404(course.enrollments.select_related("learner"), learner_id=learner_id)
    learner = enrollment.learner
    assignments = list(grading.assignments_of(course))
    takes = with_lesson(Take.objects.filter(user=learner, lesson__course=course)).order_by("-created_at")
    context = {
        "course": course,
        "learner": learner,
        "enrollment": enrollment,
        "grades": grading.grades_for([learner], assignments)[learner.pk],
        "takes": takes[:200],
        "take_count": takes.count(),
    }
    return render(request, "courses/learner.html", context)


@login_required
def grades_export(request: HttpRequest, course_id: int) -> StreamingHttpResponse:
    course = _managed_course(request, course_id, "Only the course's instructor can export its grades.")
    response = StreamingHttpResponse(grading.grades_csv(course), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="grades-course-{course.pk}.csv"'
    return response


def _managed_course(request: HttpRequest, course_id: int, refusal: str) -> Course:
    course = _visible_course(request, course_id)
    if not selectors.can_manage_course(request.user, course):
        raise PermissionDenied(refusal)
    return course


def _visible_course(request: HttpRequest, course_id: int) -> Course:
    course = get_object_or_404(Course, pk=course_id)
    if not selectors.can_view_course(request.user, course):
        raise Http404("No such course.")
    return course
