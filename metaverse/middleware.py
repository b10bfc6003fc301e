"""Security headers that Django does not set by itself (Content-Security-Policy)."""
from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware

# 'wasm-unsafe-eval' lets the bundled meshopt decoder (WebAssembly) decode uploaded models; JS eval stays off.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss: blob: data:; worker-src 'self' blob:; font-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


HEADERS = {
    "Content-Security-Policy": CSP,
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), xr-spatial-tracking=(self)",
}


def _add_headers(response):
    for name, value in HEADERS.items():
        response.setdefault(name, value)
    return response


@sync_and_async_middleware
def ContentSecurityPolicyMiddleware(get_response):  # noqa: N802 (a middleware factory, named like a class)
    """Both sync and async, like every other middleware here, so that an ASGI request is not switched from
    async to sync and back (each switch costs a thread hop) on its way to the view."""
    if iscoroutinefunction(get_response):
        async def middleware(request):
            return _add_headers(await get_response(request))
    else:
        def middleware(request):
            return _add_headers(get_response(request))
    return middleware
