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
- What is not a well-formed GraphQL request is 400 with either media type,
  as the draft asks: a body that is not a JSON object or not UTF-8, fields of
  the wrong JSON type (http_request.py), no query, no such operation, and a
  JSON array (a batch of operations).
- Every 400 has a GraphQL error body (BAD_USER_INPUT) in the negotiated media
  type, where strawberry answers its own refusals in plain text.
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
    content_type_of,
    is_json,
    is_request_error,
    response_media_type,
)
from ticketing.graphql.http_request import request_from_body, request_from_query

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
        try:
            response = await self.run(request)
        except HTTPException as error:
            if error.status_code != 400:
                raise
            return self._refused(error.reason, media_type)
        if media_type == GRAPHQL_RESPONSE_JSON:
            response.headers["content-type"] = content_type_of(media_type)
            if exchange.request_error:
                response.status_code = 400
        return response

    def _refused(self, reason: str, media_type: str) -> Response:
        """A request refused before execution (400), answered in GraphQL's own terms."""
        body = {"errors": [{"message": reason, "extensions": {"code": "BAD_USER_INPUT"}}]}
        return Response(
            self.encode_json(body), status_code=400, media_type=content_type_of(media_type)
        )

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        # Ours, not strawberry's, which takes any JSON for an object (http_request.py).
        if request.method == "GET":
            return request_from_query(request.query_params)
        return request_from_body(await request.get_body())

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
