from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Scalar(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCALAR_UNSPECIFIED: _ClassVar[Scalar]
    BOOL: _ClassVar[Scalar]
    I8: _ClassVar[Scalar]
    I16: _ClassVar[Scalar]
    I32: _ClassVar[Scalar]
    I64: _ClassVar[Scalar]
    U8: _ClassVar[Scalar]
    U16: _ClassVar[Scalar]
    U32: _ClassVar[Scalar]
    U64: _ClassVar[Scalar]
    F32: _ClassVar[Scalar]
    F64: _ClassVar[Scalar]

class NullValue(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NULL_VALUE: _ClassVar[NullValue]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    WORKER: _ClassVar[Role]
    CLIENT: _ClassVar[Role]
SCALAR_UNSPECIFIED: Scalar
BOOL: Scalar
I8: Scalar
I16: Scalar
I32: Scalar
I64: Scalar
U8: Scalar
U16: Scalar
U32: Scalar
U64: Scalar
F32: Scalar
F64: Scalar
NULL_VALUE: NullValue
ROLE_UNSPECIFIED: Role
WORKER: Role
CLIENT: Role

class Value(_message.Message):
    __slots__ = ("null_value", "bool_value", "int_value", "uint_value", "float_value", "string_value", "bytes_value", "list_value", "map_value", "struct_value", "ndarray_value", "handle_value", "fn_value", "width")
    NULL_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    UINT_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRUCT_VALUE_FIELD_NUMBER: _ClassVar[int]
    NDARRAY_VALUE_FIELD_NUMBER: _ClassVar[int]
    HANDLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    FN_VALUE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    null_value: NullValue
    bool_value: bool
    int_value: int
    uint_value: int
    float_value: float
    string_value: str
    bytes_value: bytes
    list_value: ListValue
    map_value: MapValue
    struct_value: StructValue
    ndarray_value: NdArray
    handle_value: Handle
    fn_value: FnRef
    width: Scalar
    def __init__(self, null_value: _Optional[_Union[NullValue, str]] = ..., bool_value: _Optional[bool] = ..., int_value: _Optional[int] = ..., uint_value: _Optional[int] = ..., float_value: _Optional[float] = ..., string_value: _Optional[str] = ..., bytes_value: _Optional[bytes] = ..., list_value: _Optional[_Union[ListValue, _Mapping]] = ..., map_value: _Optional[_Union[MapValue, _Mapping]] = ..., struct_value: _Optional[_Union[StructValue, _Mapping]] = ..., ndarray_value: _Optional[_Union[NdArray, _Mapping]] = ..., handle_value: _Optional[_Union[Handle, _Mapping]] = ..., fn_value: _Optional[_Union[FnRef, _Mapping]] = ..., width: _Optional[_Union[Scalar, str]] = ...) -> None: ...

class ListValue(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Value]
    def __init__(self, items: _Optional[_Iterable[_Union[Value, _Mapping]]] = ...) -> None: ...

class MapValue(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[MapEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[MapEntry, _Mapping]]] = ...) -> None: ...

class MapEntry(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: Value
    value: Value
    def __init__(self, key: _Optional[_Union[Value, _Mapping]] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class StructValue(_message.Message):
    __slots__ = ("name", "fields")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    fields: _containers.RepeatedCompositeFieldContainer[StructField]
    def __init__(self, name: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[StructField, _Mapping]]] = ...) -> None: ...

class StructField(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: Value
    def __init__(self, name: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class NdArray(_message.Message):
    __slots__ = ("dtype", "shape", "data")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    dtype: Scalar
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    def __init__(self, dtype: _Optional[_Union[Scalar, str]] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ...) -> None: ...

class Handle(_message.Message):
    __slots__ = ("kind", "id", "generation")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: int
    generation: int
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[int] = ..., generation: _Optional[int] = ...) -> None: ...

class FnRef(_message.Message):
    __slots__ = ("name", "signature")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    name: str
    signature: str
    def __init__(self, name: _Optional[str] = ..., signature: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("code", "message", "frames")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    frames: _containers.RepeatedCompositeFieldContainer[StackFrame]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., frames: _Optional[_Iterable[_Union[StackFrame, _Mapping]]] = ...) -> None: ...

class StackFrame(_message.Message):
    __slots__ = ("language", "function", "file", "line")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    language: str
    function: str
    file: str
    line: int
    def __init__(self, language: _Optional[str] = ..., function: _Optional[str] = ..., file: _Optional[str] = ..., line: _Optional[int] = ...) -> None: ...

class Frame(_message.Message):
    __slots__ = ("challenge", "hello", "welcome", "call", "result", "cancel", "ping", "pong", "announce", "withdraw", "batch", "batch_result", "goaway", "wake")
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCE_FIELD_NUMBER: _ClassVar[int]
    WITHDRAW_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    BATCH_RESULT_FIELD_NUMBER: _ClassVar[int]
    GOAWAY_FIELD_NUMBER: _ClassVar[int]
    WAKE_FIELD_NUMBER: _ClassVar[int]
    challenge: Challenge
    hello: Hello
    welcome: Welcome
    call: Call
    result: Result
    cancel: Cancel
    ping: Ping
    pong: Pong
    announce: Announce
    withdraw: Withdraw
    batch: Batch
    batch_result: BatchResult
    goaway: GoAway
    wake: Wake
    def __init__(self, challenge: _Optional[_Union[Challenge, _Mapping]] = ..., hello: _Optional[_Union[Hello, _Mapping]] = ..., welcome: _Optional[_Union[Welcome, _Mapping]] = ..., call: _Optional[_Union[Call, _Mapping]] = ..., result: _Optional[_Union[Result, _Mapping]] = ..., cancel: _Optional[_Union[Cancel, _Mapping]] = ..., ping: _Optional[_Union[Ping, _Mapping]] = ..., pong: _Optional[_Union[Pong, _Mapping]] = ..., announce: _Optional[_Union[Announce, _Mapping]] = ..., withdraw: _Optional[_Union[Withdraw, _Mapping]] = ..., batch: _Optional[_Union[Batch, _Mapping]] = ..., batch_result: _Optional[_Union[BatchResult, _Mapping]] = ..., goaway: _Optional[_Union[GoAway, _Mapping]] = ..., wake: _Optional[_Union[Wake, _Mapping]] = ...) -> None: ...

class Challenge(_message.Message):
    __slots__ = ("nonce", "versions")
    NONCE_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    nonce: bytes
    versions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, nonce: _Optional[bytes] = ..., versions: _Optional[_Iterable[int]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("version", "role", "worker_id", "proof", "language", "sdk_version", "pid", "features")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SDK_VERSION_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    version: int
    role: Role
    worker_id: str
    proof: bytes
    language: str
    sdk_version: str
    pid: int
    features: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, version: _Optional[int] = ..., role: _Optional[_Union[Role, str]] = ..., worker_id: _Optional[str] = ..., proof: _Optional[bytes] = ..., language: _Optional[str] = ..., sdk_version: _Optional[str] = ..., pid: _Optional[int] = ..., features: _Optional[_Iterable[str]] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("version", "limits", "node_id", "rings")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    RINGS_FIELD_NUMBER: _ClassVar[int]
    version: int
    limits: Limits
    node_id: str
    rings: SharedRings
    def __init__(self, version: _Optional[int] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., node_id: _Optional[str] = ..., rings: _Optional[_Union[SharedRings, _Mapping]] = ...) -> None: ...

class SharedRings(_message.Message):
    __slots__ = ("path", "ring_bytes")
    PATH_FIELD_NUMBER: _ClassVar[int]
    RING_BYTES_FIELD_NUMBER: _ClassVar[int]
    path: str
    ring_bytes: int
    def __init__(self, path: _Optional[str] = ..., ring_bytes: _Optional[int] = ...) -> None: ...

class Wake(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_frame_bytes", "max_depth", "max_in_flight")
    MAX_FRAME_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    max_frame_bytes: int
    max_depth: int
    max_in_flight: int
    def __init__(self, max_frame_bytes: _Optional[int] = ..., max_depth: _Optional[int] = ..., max_in_flight: _Optional[int] = ...) -> None: ...

class Call(_message.Message):
    __slots__ = ("call_id", "function", "args", "timeout_nanos", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_NANOS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    call_id: int
    function: str
    args: _containers.RepeatedCompositeFieldContainer[Value]
    timeout_nanos: int
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, call_id: _Optional[int] = ..., function: _Optional[str] = ..., args: _Optional[_Iterable[_Union[Value, _Mapping]]] = ..., timeout_nanos: _Optional[int] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("call_id", "value", "status")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    call_id: int
    value: Value
    status: Status
    def __init__(self, call_id: _Optional[int] = ..., value: _Optional[_Union[Value, _Mapping]] = ..., status: _Optional[_Union[Status, _Mapping]] = ...) -> None: ...

class Cancel(_message.Message):
    __slots__ = ("call_id",)
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    call_id: int
    def __init__(self, call_id: _Optional[int] = ...) -> None: ...

class Ping(_message.Message):
    __slots__ = ("nonce",)
    NONCE_FIELD_NUMBER: _ClassVar[int]
    nonce: int
    def __init__(self, nonce: _Optional[int] = ...) -> None: ...

class Pong(_message.Message):
    __slots__ = ("nonce",)
    NONCE_FIELD_NUMBER: _ClassVar[int]
    nonce: int
    def __init__(self, nonce: _Optional[int] = ...) -> None: ...

class Announce(_message.Message):
    __slots__ = ("functions",)
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    functions: _containers.RepeatedCompositeFieldContainer[FunctionDecl]
    def __init__(self, functions: _Optional[_Iterable[_Union[FunctionDecl, _Mapping]]] = ...) -> None: ...

class FunctionDecl(_message.Message):
    __slots__ = ("signature", "version", "tags", "doc")
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DOC_FIELD_NUMBER: _ClassVar[int]
    signature: str
    version: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    doc: str
    def __init__(self, signature: _Optional[str] = ..., version: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., doc: _Optional[str] = ...) -> None: ...

class Withdraw(_message.Message):
    __slots__ = ("names",)
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("batch_id", "calls")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    batch_id: int
    calls: _containers.RepeatedCompositeFieldContainer[Call]
    def __init__(self, batch_id: _Optional[int] = ..., calls: _Optional[_Iterable[_Union[Call, _Mapping]]] = ...) -> None: ...

class BatchResult(_message.Message):
    __slots__ = ("batch_id", "results")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    batch_id: int
    results: _containers.RepeatedCompositeFieldContainer[Result]
    def __init__(self, batch_id: _Optional[int] = ..., results: _Optional[_Iterable[_Union[Result, _Mapping]]] = ...) -> None: ...

class GoAway(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: Status
    def __init__(self, status: _Optional[_Union[Status, _Mapping]] = ...) -> None: ...
