"""Frame lifetimes (issue 11, point 3): no view can see memory the writer reuses, or memory that is unmapped."""

import gc
import os
import threading

import numpy as np
import pytest

import zerolane as zl

from ringutil import fill, free_bytes, mapped, pattern

P = 1024


def _one_frame(reader, writer, sequence=1, size=200):
    writer.write(pattern(sequence, size))
    return reader.read(30)


def test_view_after_release_keeps_space_until_dropped(unique_name):
    with zl.Reader(unique_name, P) as reader, zl.Writer(unique_name) as writer:
        frame = _one_frame(reader, writer)
        view = frame.data
        frame.release()
        with pytest.raises(ValueError, match="released"):
            frame.data
        assert free_bytes(unique_name) == P - 216  # deferred: the view still exports the frame
        n = fill(writer, 100)  # the writer takes all the rest and then cannot overwrite the held frame
        assert n > 0
        assert bytes(view) == pattern(1, 200)
        assert free_bytes(unique_name) < 216
        del view
        assert free_bytes(unique_name) >= 216  # the last view gone: the space is back
        writer.write(b"y" * 100, timeout=0)


def test_slices_casts_and_numpy_keep_the_frame(unique_name):
    with zl.Reader(unique_name, P) as reader, zl.Writer(unique_name) as writer:
        frame = _one_frame(reader, writer, size=256)
        data = frame.data
        tail = data[8:][::2]
        cast = data.cast("I")
        array = np.frombuffer(data[16:], dtype=np.uint8)
        as_arr = frame.as_array(np.uint32, (8, 8))
        assert not array.flags.writeable and not as_arr.flags.writeable
        del data
        frame.release()
        expected = pattern(1, 256)
        fill(writer, 64)
        views = {
            "tail": (tail, expected[8:][::2]),
            "cast": (cast, expected),
            "array": (array, expected[16:]),
            "as_arr": (as_arr, expected),
        }
        del tail, cast, array, as_arr
        for name in ["tail", "cast", "array", "as_arr"]:
            # each that remains is enough alone to keep the writer away
            for view, want in views.values():
                assert bytes(view) == want
            del view  # the loop variable would keep the last one alive
            with pytest.raises(TimeoutError):
                writer.write(b"z" * 64, timeout=0)
            del views[name]
        writer.write(b"z" * 64, timeout=0)  # all gone: the writer proceeds


def test_dropped_frame_without_release_is_released(unique_name):
    with zl.Reader(unique_name, P) as reader, zl.Writer(unique_name) as writer:
        frame = _one_frame(reader, writer)
        del frame  # no views: released at once
        assert free_bytes(unique_name) == P
        frame = _one_frame(reader, writer, 2)
        view = frame.data[:10]
        del frame  # dropped, but a view remains
        assert free_bytes(unique_name) == P - 216
        assert bytes(view) == pattern(2, 200)[:10]
        del view
        gc.collect()
        assert free_bytes(unique_name) == P


def test_frame_in_a_reference_cycle_is_released_by_the_collector(unique_name):
    with zl.Reader(unique_name, P) as reader, zl.Writer(unique_name) as writer:
        frame = _one_frame(reader, writer)
        holder = {"frame": frame, "view": frame.data}
        holder["self"] = holder
        del frame, holder
        gc.collect()
        assert free_bytes(unique_name) == P


def test_release_from_another_thread(unique_name):
    with zl.Reader(unique_name, P) as reader, zl.Writer(unique_name) as writer:
        frames = [_one_frame(reader, writer, i, 100) for i in range(1, 4)]
        fill(writer, 100)
        done = threading.Event()

        def release_all():
            for frame in reversed(frames):  # out of order, from another thread
                frame.release()
            done.set()

        t = threading.Thread(target=release_all)
        t.start()
        assert done.wait(30)
        t.join(30)
        del frames
        writer.write(b"x" * 100, timeout=0)


def test_views_used_and_dropped_in_another_thread(unique_name):
    with zl.Reader(unique_name, P) as reader, zl.Writer(unique_name) as writer:
        frame = _one_frame(reader, writer)
        view = frame.data
        frame.release()
        handed = [view]
        del view
        fill(writer, 100)
        checked = threading.Event()
        drop = threading.Event()
        dropped = threading.Event()
        seen = []

        def use():
            v = handed.pop()
            seen.append(bytes(v))
            checked.set()
            drop.wait(30)
            del v
            dropped.set()

        t = threading.Thread(target=use)
        t.start()
        assert checked.wait(30)
        assert seen == [pattern(1, 200)]
        with pytest.raises(TimeoutError):
            writer.write(b"x" * 200, timeout=0)
        drop.set()
        assert dropped.wait(30)
        t.join(30)
        writer.write(b"x" * 100, timeout=0)


def test_views_after_reader_close_stay_mapped_until_dropped(unique_name):
    reader = zl.Reader(unique_name, P)
    writer = zl.Writer(unique_name)
    frame = _one_frame(reader, writer)
    view = frame.data
    array = np.frombuffer(view, dtype=np.uint8)
    reader.close()
    writer.close()
    assert not os.path.exists(f"/dev/shm/{unique_name}")  # the name is gone...
    assert bytes(view) == pattern(1, 200)  # ...but the mapping is not
    assert array.sum() == sum(pattern(1, 200))
    with pytest.raises(ValueError):
        frame.data
    frame.release()  # harmless after close
    assert mapped(unique_name)
    del view
    assert mapped(unique_name)  # the array still holds it
    del array, frame
    gc.collect()
    assert not mapped(unique_name)  # the last view unmapped it


def test_views_after_buffer_unlinked(unique_name):
    with zl.Reader(unique_name, P) as reader, zl.Writer(unique_name) as writer:
        frame = _one_frame(reader, writer)
        view = frame.data
        for path in (f"/dev/shm/{unique_name}", f"/dev/shm/sem.sem-w-{unique_name}",
                     f"/dev/shm/sem.sem-r-{unique_name}"):
            os.unlink(path)  # someone removes the objects under us
        assert bytes(view) == pattern(1, 200)
        frame.release()
        assert bytes(view) == pattern(1, 200)
        del view
    assert not mapped(unique_name)


def test_writer_wraps_over_released_space_only(unique_name):
    # Hold every other frame while the writer laps the ring many times: held frames never change.
    with zl.Reader(unique_name, 2048) as reader, zl.Writer(unique_name) as writer:
        held = []
        seq = 0
        for lap in range(200):
            try:
                writer.write(pattern(seq + 1, 90), timeout=0)
            except TimeoutError:
                # full: drop the oldest held views, then go on
                for frame, view, s in held[:3]:
                    assert bytes(view) == pattern(s, 90)
                del held[:3]
                continue
            seq += 1
            frame = reader.read(30)
            view = frame.data
            frame.release()
            if seq % 2:
                held.append((frame, view, seq))
            else:
                del view
            for _f, v, s in held:
                assert bytes(v) == pattern(s, 90)


def test_closing_reader_with_frames_in_other_thread_views(unique_name):
    reader = zl.Reader(unique_name, P)
    writer = zl.Writer(unique_name)
    frame = _one_frame(reader, writer)
    view = frame.data
    result = []
    ready = threading.Event()
    go = threading.Event()

    def later():
        ready.set()
        go.wait(30)
        result.append(bytes(view))

    t = threading.Thread(target=later)
    t.start()
    assert ready.wait(30)
    writer.close()
    reader.close()
    go.set()
    t.join(30)
    assert result == [pattern(1, 200)]
    del view, frame
    gc.collect()
    assert not mapped(unique_name)
