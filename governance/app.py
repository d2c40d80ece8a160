"""create_app(): the only place where the service is wired together."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from litestar import Litestar, Request, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from governance.accounts.auth import AuthenticationMiddleware, BearerAwareCSRFMiddleware
from governance.accounts.controllers import (
    AuditTrailController,
    EmailConfirmationController,
    PasswordController,
    ProfileController,
    SecurityController,
    SessionController,
    TwoFactorController,
    UserAdminController,
)
from governance.actions.api import ActionApiController
from governance.actions.controllers import ActionController
from governance.core.db import ReadsTogetherMiddleware, database_is_reachable, open_database
from governance.core.errors import handle_exception
from governance.core.http import refuse_non_ascii_path_ids
from governance.core.openapi import CommandSchemaPlugin
from governance.core.security import (
    SecurityHeadersMiddleware,
    TrustedProxyMiddleware,
    cookie_name,
)
from governance.core.templating import TEMPLATE_DIRECTORY, add_template_helpers, url_for_in
from governance.core.urls import use_application
from governance.dashboard.controllers import (
    DashboardController,
    GroupOverviewController,
    MarkdownPreviewController,
)
from governance.documents.api import DocumentApiController
from governance.documents.controllers import DocumentController
from governance.documents.pack_controllers import MeetingPackApiController, MeetingPackController
from governance.groups.api import GroupApiController, MeApiController
from governance.groups.controllers import GroupAdminController, GroupController
from governance.groups.dependencies import provide_viewer
from governance.meetings.api import MeetingApiController
from governance.meetings.calendars import CalendarController
from governance.meetings.controllers import (
    MeetingController,
    NoticeReplyController,
    PublicMinutesController,
)
from governance.meetings.exports import ExportController
from governance.notifications.api import TasksApiController
from governance.notifications.controllers import (
    EmailPreferencesController,
    OutboxAdminController,
    TasksController,
    count_tasks_for_navigation,
)
from governance.operations.api import OperationsApiController
from governance.operations.controllers import PersonalDataController, StatusController
from governance.pulses.api import PulseApiController
from governance.pulses.controllers import (
    PulseAnswerController,
    PulseController,
    StaffRosterController,
)
from governance.register.api import RegisterApiController
from governance.register.controllers import RegisterController
from governance.reports.api import BoardLineApiController, ReportApiController
from governance.reports.controllers import ReportController
from governance.resolutions.api import ResolutionApiController
from governance.resolutions.controllers import (
    ResolutionController,
    ResolutionVoteLinkController,
)
from governance.scheduler import in_process_scheduler
from governance.search.api import SearchApiController
from governance.search.controllers import SearchController
from governance.settings import Settings, get_settings
from governance.transparency.api import TransparencyApiController
from governance.transparency.controllers import TransparencyController

STATIC_DIRECTORY = Path(__file__).parent / "static"


@get("/health", include_in_schema=True, tags=["service"], summary="The process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/ready",
    tags=["service"],
    summary="The database answers",
    responses={
        503: ResponseSpec(
            data_container=dict[str, str],
            description="The database does not answer",
            generate_examples=False,
        )
    },
)
async def ready() -> Response[dict[str, str]]:
    if await database_is_reachable():
        return Response({"status": "ready"})
    return Response({"status": "database unreachable"}, status_code=503)


def _configure_templates(engine: JinjaTemplateEngine) -> None:
    add_template_helpers(engine.engine)
    # Templates ship with the code and change only with a restart: without this, Jinja
    # looks at every template file's time on disk at every use (a dozen times a page).
    engine.engine.auto_reload = False
    engine.engine.globals["service_name"] = "Governance"
    engine.engine.globals["organisation_timezone"] = get_settings().timezone
    engine.engine.globals["organisation_name"] = get_settings().org_name
    engine.engine.globals["organisation_logo_url"] = get_settings().org_logo_url


async def _before_request(request: Request[Any, Any, Any]) -> None:
    # An id in a path is ASCII digits only (an Arabic-Indic one is not meeting 1).
    refuse_non_ascii_path_ids(request)
    # The navigation's count of what waits for the signed-in person.
    await count_tasks_for_navigation(request)


def _route_handlers() -> list[Any]:
    """Every page, API route and static file of the service."""
    return [
        health,
        ready,
        DashboardController,
        GroupOverviewController,
        MarkdownPreviewController,
        SessionController,
        SecurityController,
        TwoFactorController,
        EmailConfirmationController,
        PasswordController,
        ProfileController,
        UserAdminController,
        AuditTrailController,
        GroupController,
        GroupAdminController,
        MeApiController,
        GroupApiController,
        MeetingController,
        PublicMinutesController,
        NoticeReplyController,
        CalendarController,
        ExportController,
        MeetingApiController,
        ActionController,
        ActionApiController,
        ResolutionController,
        ResolutionVoteLinkController,
        ResolutionApiController,
        ReportController,
        ReportApiController,
        BoardLineApiController,
        DocumentController,
        DocumentApiController,
        EmailPreferencesController,
        OutboxAdminController,
        TasksController,
        TasksApiController,
        RegisterController,
        RegisterApiController,
        TransparencyController,
        TransparencyApiController,
        PersonalDataController,
        StatusController,
        OperationsApiController,
        MeetingPackController,
        MeetingPackApiController,
        SearchController,
        SearchApiController,
        StaffRosterController,
        PulseController,
        PulseAnswerController,
        PulseApiController,
        create_static_files_router(
            path="/static", directories=[STATIC_DIRECTORY], include_in_schema=False
        ),
    ]


def _openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Governance API",
        version="1",
        path="/schema",
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="A token from `governance token create EMAIL`",
                )
            }
        ),
    )


def _csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name=cookie_name("governance_csrf", settings.secure_cookies),
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=["/health", "/ready", "/static"],
    )


def _logging_config(settings: Settings) -> LoggingConfig:
    """Log lines written as they happen, not through Litestar's default queue and thread.

    Uvicorn ends a process stopped by SIGTERM by raising the signal again, so the atexit hook
    that drains a queued handler never runs: the last lines of a shutdown ("Scheduler ...
    stopped") were lost on a busy machine. A plain stream handler writes each line at once.
    """
    direct: dict[str, Any] = {"handlers": ["console"], "level": settings.log_level}
    return LoggingConfig(
        root=dict(direct),
        loggers={"litestar": {**direct, "propagate": False}},
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()

    @asynccontextmanager
    async def database_lifespan(_: Litestar) -> AsyncIterator[None]:
        async with open_database():
            yield

    @asynccontextmanager
    async def settled_heap(_: Litestar) -> AsyncIterator[None]:
        # What start-up made (modules, the route table, the engine) lives as long as the
        # process: frozen out of the garbage collector's reach, its full collections no
        # longer walk those 200,000 objects (45 ms each, several times a minute under
        # load), only what pages leave behind.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()

    csrf = _csrf_config(settings)
    template_config: TemplateConfig[Any] = TemplateConfig(
        directory=TEMPLATE_DIRECTORY,
        engine=JinjaTemplateEngine,
        engine_callback=_configure_templates,
    )
    app = Litestar(
        route_handlers=_route_handlers(),
        middleware=[
            # First, so that everything after it sees the client's own address and scheme.
            TrustedProxyMiddleware(settings.trusted_proxies),
            SecurityHeadersMiddleware(),
            ReadsTogetherMiddleware(),
            AuthenticationMiddleware(),
            DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf),
        ],
        template_config=template_config,
        # Every handler that declares `viewer: Viewer` gets the signed-in person with the
        # group roles they hold today.
        dependencies={"viewer": Provide(provide_viewer)},
        before_request=_before_request,
        exception_handlers={Exception: handle_exception},
        lifespan=[database_lifespan, in_process_scheduler, settled_heap],
        logging_config=_logging_config(settings),
        openapi_config=_openapi_config(),
        # Ahead of Litestar's own: commands described as msgspec decodes them.
        plugins=[CommandSchemaPlugin()],
        debug=False,
    )
    # Templates build addresses from this application's route table (Litestar's own
    # `url_for`, replaced here, reads the application from the request on every call).
    cast(JinjaTemplateEngine, app.template_engine).engine.globals["url_for"] = url_for_in(app)
    use_application(app)
    return app
