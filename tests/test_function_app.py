"""The app imports and indexes its functions the way the Python worker does."""

from __future__ import annotations


def test_function_app_loads_and_registers_its_functions() -> None:
    import function_app

    functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
    assert "health" in functions
    health = functions["health"]
    trigger = health.get_trigger()
    assert trigger.route == "cp/health"
    assert [str(m.value) for m in trigger.methods] == ["GET"]
