"""GraphQL over HTTP as the GraphQL-over-HTTP draft asks, on strawberry's ASGI view.

What differs from strawberry's defaults:
- The response media type follows `Accept` (see http_media.py); if the client
  accepts neither application/graphql-response+json nor application/json: 406.
- With application/graphql-response+json, a request error (the document does
  not parse or validate, a limit refuses it, a variable cannot be coerced) is
  400 and the body has no `data`; once execution began it is 200, field errors
  or not. With application/json every GraphQL response stays 200, as before.
- POST takes application/json only: any other body (text/plain, a form,
  multipart) is 415 before it is read. Those are the types a page on another
  site may send without a CORS preflight, so no cross-site form runs a mutation.
- GET runs queries only: a mutation over GET is 405 (`Allow: POST`) and nothing
  runs. Subscriptions are for WebSocket: over HTTP they are refused, not run.
- A JSON array (a batch of operations) is refused with 400.
"""

from __future__ import annotations

from dataclasses import dataclass

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from ticketing.graphql.context import Context
from ticketing.graphql.http_media import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    is_json,
    is_request_error,
    response_media_type,
)

OPERATIONS_BY_METHOD = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}


class MethodNotAllowed(HTTPException):
    def __init__(self, reason: str, allow: str) -> None:
        super().__init__(405, reason)
        self.allow = allow


@dataclass
class Exchange:
    """What one HTTP request negotiated, and what its result turned out to be."""

    media_type: str
    request_error: bool = False


class GraphQLOverHTTP(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self._respond(Request(scope, receive=receive))
        except HTTPException as error:
            allow = {"Allow": error.allow} if isinstance(error, MethodNotAllowed) else None
            response = PlainTextResponse(error.reason, status_code=error.status_code, headers=allow)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return await self.run(request)
        media_type = response_media_type(request.headers.get("accept"))
        if media_type is None:
            raise HTTPException(406, f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}.")
        if request.method == "POST" and not is_json(request.headers.get("content-type")):
            raise HTTPException(415, "Send the request body as application/json (UTF-8).")
        exchange = Exchange(media_type)
        request.state.graphql_exchange = exchange
        response = await self.run(request)
        if media_type == GRAPHQL_RESPONSE_JSON:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
            if exchange.request_error:
                response.status_code = 400
        return response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)  # refuses a batch unless configured
        if isinstance(data, list):  # never run one, whatever the schema's configuration
            raise HTTPException(400, "Send one operation per request: batches are not accepted.")
        return data

    async def execute_single(  # strawberry's signature
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        method = request_adapter.method
        allowed = OPERATIONS_BY_METHOD.get(method, frozenset())
        if method == "GET" and not self.allow_queries_via_get:
            allowed = frozenset()
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if method == "GET":
                reason = "Only queries may be sent with GET: send this operation with POST."
                raise MethodNotAllowed(reason, allow="POST") from error
            raise HTTPException(400, error.as_http_error_reason(method)) from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request.") from error

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        exchange: Exchange | None = getattr(request.state, "graphql_exchange", None)
        if exchange is not None and is_request_error(result):
            exchange.request_error = True
            if exchange.media_type == GRAPHQL_RESPONSE_JSON:
                body.pop("data", None)  # a request error has no data entry at all
        return body
