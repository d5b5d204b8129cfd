"""The Python syntax tree the code generator builds (emit.py, emit_reads.py, emit_checks.py).

`compile()` wants a line and a column on every expression, statement, handler and argument.
All generated code is "line 1", so each such class here is a subclass of `ast`'s of the same
name that says so once, as class attributes, for all its nodes; giving every node its position
by walking the finished tree instead (`ast.fix_missing_locations`, or a walk of our own) was a
fifth to a quarter of the time code generation took. The nodes are `ast`'s in every other way:
`isinstance` against `ast`'s classes, `ast.unparse` and `compile` take them as they are.

The classes that carry no position (contexts, operators, `Module`, `arguments`) are `ast`'s own.
A node built from `ast` directly would miss its position and `compile` would refuse the tree:
the generator builds its nodes from this module only (tests/test_architecture.py checks it)."""

from __future__ import annotations

import ast

# the abstract classes, for annotations and isinstance
AST, expr, stmt, excepthandler = ast.AST, ast.expr, ast.stmt, ast.excepthandler

# no position: `ast`'s own
Load, Store = ast.Load, ast.Store
And, Or, Not = ast.And, ast.Or, ast.Not
Eq, NotEq, Lt, LtE, Gt, GtE = ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE
Is, IsNot, In, NotIn = ast.Is, ast.IsNot, ast.In, ast.NotIn
Add, Mod = ast.Add, ast.Mod
Module, arguments = ast.Module, ast.arguments


def _line_one(cls: type) -> type:
    """`cls` with every node at line 1, column 0."""
    return type(cls.__name__, (cls,), {"__slots__": (), "__module__": __name__, "__doc__": cls.__doc__,
                                       "lineno": 1, "col_offset": 0})


# expressions
Attribute, BinOp, BoolOp, Call, Compare = map(_line_one, (ast.Attribute, ast.BinOp, ast.BoolOp, ast.Call, ast.Compare))
Constant, Dict, IfExp, Lambda, List = map(_line_one, (ast.Constant, ast.Dict, ast.IfExp, ast.Lambda, ast.List))
Name, NamedExpr, Slice, Subscript = map(_line_one, (ast.Name, ast.NamedExpr, ast.Slice, ast.Subscript))
Tuple, UnaryOp = map(_line_one, (ast.Tuple, ast.UnaryOp))
# statements, handlers, arguments
Assign, Expr, For, FunctionDef, If, Return, Try = map(_line_one, (ast.Assign, ast.Expr, ast.For, ast.FunctionDef,
                                                                   ast.If, ast.Return, ast.Try))
ExceptHandler, arg = map(_line_one, (ast.ExceptHandler, ast.arg))
