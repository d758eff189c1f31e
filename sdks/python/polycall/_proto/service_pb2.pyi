from . import polycall_pb2 as _polycall_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamRequest(_message.Message):
    __slots__ = ("call", "cancel")
    CALL_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    call: _polycall_pb2.Call
    cancel: _polycall_pb2.Cancel
    def __init__(self, call: _Optional[_Union[_polycall_pb2.Call, _Mapping]] = ..., cancel: _Optional[_Union[_polycall_pb2.Cancel, _Mapping]] = ...) -> None: ...

class ListFunctionsRequest(_message.Message):
    __slots__ = ("pattern", "local_only")
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    LOCAL_ONLY_FIELD_NUMBER: _ClassVar[int]
    pattern: str
    local_only: bool
    def __init__(self, pattern: _Optional[str] = ..., local_only: _Optional[bool] = ...) -> None: ...

class ListFunctionsResponse(_message.Message):
    __slots__ = ("functions", "node_id")
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    functions: _containers.RepeatedCompositeFieldContainer[FunctionEntry]
    node_id: str
    def __init__(self, functions: _Optional[_Iterable[_Union[FunctionEntry, _Mapping]]] = ..., node_id: _Optional[str] = ...) -> None: ...

class DescribeFunctionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class FunctionEntry(_message.Message):
    __slots__ = ("decl", "bridge", "node_id")
    DECL_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    decl: _polycall_pb2.FunctionDecl
    bridge: str
    node_id: str
    def __init__(self, decl: _Optional[_Union[_polycall_pb2.FunctionDecl, _Mapping]] = ..., bridge: _Optional[str] = ..., node_id: _Optional[str] = ...) -> None: ...
