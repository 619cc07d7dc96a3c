"""Helper processes (subscribers, the sender) driven by commands from the parent.

Each runs one handler object on its own uvloop event loop: the parent puts
`(command, *args)` on the process's command queue; the handler's
`do_<command>` runs and its answer goes back on a shared result queue as
`(index, command, answer)`. The spawn context keeps each process free of the
parent's state (no inherited sockets, threads or event loop).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
import traceback
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any, Protocol

from lib.limits import raise_open_files

Command = tuple[Any, ...]


class Handler(Protocol):
    async def shutdown(self) -> None: ...


async def _serve(handler: Any, index: int, commands: Queue[Command], results: Queue[Any]) -> None:
    loop = asyncio.get_running_loop()
    try:
        while True:
            # A blocking get in a thread: the loop keeps reading sockets meanwhile.
            name, *args = await loop.run_in_executor(None, commands.get)
            if name == "exit":
                return
            try:
                answer = await getattr(handler, f"do_{name}")(*args)
            except Exception:
                answer = {"error": traceback.format_exc()}
            results.put((index, name, answer))
    finally:
        await handler.shutdown()


def _main(factory: Any, index: int, commands: Queue[Command], results: Queue[Any]) -> None:
    import uvloop

    raise_open_files()
    uvloop.run(_serve(factory(index), index, commands, results))


class WorkerPool:
    """`count` processes, each running `factory(index)`; call them all and gather answers."""

    def __init__(self, factory: Any, count: int, name: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.results: Queue[Any] = context.Queue()
        self.commands: list[Queue[Command]] = [context.Queue() for _ in range(count)]
        self.processes: list[BaseProcess] = [
            context.Process(
                target=_main,
                args=(factory, index, self.commands[index], self.results),
                name=f"{name}-{index}",
                daemon=True,  # never outlive the benchmark, whatever happens to it
            )
            for index in range(count)
        ]

    def __len__(self) -> int:
        return len(self.processes)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes if process.pid is not None]

    def start(self) -> WorkerPool:
        for process in self.processes:
            process.start()
        return self

    def call(self, name: str, per_process: list[Command], timeout: float) -> list[Any]:
        """Send each process its own arguments; wait for every answer."""
        for commands, args in zip(self.commands, per_process, strict=True):
            commands.put((name, *args))
        answers: list[Any] = [None] * len(self.processes)
        waiting = set(range(len(self.processes)))
        deadline = time.monotonic() + timeout
        while waiting:
            remaining = deadline - time.monotonic()
            try:
                index, answered, answer = self.results.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                raise TimeoutError(
                    f"{name}: no answer from {sorted(waiting)} in {timeout}s"
                ) from None
            if answered != name:
                raise RuntimeError(f"{name}: process {index} answered {answered!r}")
            if isinstance(answer, dict) and "error" in answer:
                raise RuntimeError(f"{name} failed in process {index}:\n{answer['error']}")
            answers[index] = answer
            waiting.discard(index)
        return answers

    def call_all(self, name: str, *args: Any, timeout: float) -> list[Any]:
        return self.call(name, [args] * len(self.processes), timeout)

    def stop(self) -> None:
        for commands in self.commands:
            commands.put(("exit",))
        for process in self.processes:
            if process.pid is None:
                continue  # never started
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        for q in [self.results, *self.commands]:
            q.close()
            q.cancel_join_thread()  # the processes are gone: nothing left to deliver
