import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskMessage(_message.Message):
    __slots__ = ("task_id", "owner_uid", "image", "image_key", "content_type", "submitted_at", "model", "fcm_token", "trace_context", "original_stored")
    class TraceContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_UID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    FCM_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TRACE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_STORED_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    owner_uid: str
    image: bytes
    image_key: str
    content_type: str
    submitted_at: _timestamp_pb2.Timestamp
    model: str
    fcm_token: str
    trace_context: _containers.ScalarMap[str, str]
    original_stored: bool
    def __init__(self, task_id: _Optional[str] = ..., owner_uid: _Optional[str] = ..., image: _Optional[bytes] = ..., image_key: _Optional[str] = ..., content_type: _Optional[str] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model: _Optional[str] = ..., fcm_token: _Optional[str] = ..., trace_context: _Optional[_Mapping[str, str]] = ..., original_stored: _Optional[bool] = ...) -> None: ...
