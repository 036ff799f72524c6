"""The exceptions: one base class, the built-in categories callers already catch, and the C# names (docs/API.md)."""

import pytest

import zerolane
from zerolane import errors

# Each exception with the built-in category it also belongs to (None: ZeroLane's own only).
CATEGORIES = {
    "InvalidNameError": ValueError,
    "BufferNotFoundError": FileNotFoundError,
    "BufferCorruptedError": None,
    "IncompatibleBufferError": None,
    "FrameTooLargeError": ValueError,
    "ReaderAlreadyConnectedError": None,
    "WriterAlreadyConnectedError": None,
    "ReaderGoneError": None,
    "WriterGoneError": None,
    "MetadataAlreadyWrittenError": None,
    "MetadataTooLargeError": ValueError,
    "MessageFormatError": ValueError,
    "ConnectionClosedError": ConnectionError,
    "StreamTruncatedError": EOFError,
    "MessageConnectionFaultedError": None,
}


@pytest.mark.parametrize("name", sorted(CATEGORIES))
def test_every_exception_derives_from_the_base_and_its_builtin_category(name):
    exception = getattr(errors, name)
    assert issubclass(exception, zerolane.ZeroLaneError)
    if CATEGORIES[name] is not None:
        assert issubclass(exception, CATEGORIES[name])


@pytest.mark.parametrize("name", sorted(CATEGORIES) + ["ZeroLaneError"])
def test_every_exception_is_exported_by_the_package(name):
    assert getattr(zerolane, name) is getattr(errors, name)


def test_the_module_defines_no_exception_the_table_above_misses():
    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, BaseException) and value is not errors.ZeroLaneError
    }
    assert defined == set(CATEGORIES)


def test_writer_gone_says_whether_the_writer_died_and_defaults_to_a_clean_disconnect():
    assert errors.WriterGoneError("the writer disconnected").died is False
    died = errors.WriterGoneError("the writer's process died", died=True)
    assert died.died is True
    assert str(died) == "the writer's process died"


def test_the_base_class_is_a_plain_exception_so_except_exception_catches_everything():
    assert issubclass(zerolane.ZeroLaneError, Exception)
    with pytest.raises(zerolane.ZeroLaneError):
        raise zerolane.BufferCorruptedError("Buffer 'x' is corrupted: test")
