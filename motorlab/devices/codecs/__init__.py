"""Sans-I/O device codecs: bytes in, timestamped samples and replies out; commands in, bytes out.

One module per wire protocol. A codec does no I/O and reads no clock, and every
codec has the same shape (pyserial ``serial.threaded`` / h11 style):

* **Wire facts** at module level: constants (UUIDs, opcodes, registers, scales),
  the command classes the device adds to :mod:`motorlab.devices.base`'s, and pure
  builders of device frames for emulators and tests (``weight_frame``,
  ``measurement_frame``, ``encode_frame``...). Anything another module needs
  (a driver, an emulator) is imported from here, never defined twice.
* **A framer**: bytes -> complete frames. A serial stream gets a small class
  with ``feed(data) -> list[frames]`` that keeps at most one cut frame between
  calls (``CobsFramer``, ``WitMotionFramer``, ``LineFramer``); a BLE
  notification is a datagram, so its framer splits one notification
  (``tindeq.split_frames``) or reassembles frames across notifications when the
  protocol says so (``VernierFramer``, ``WitMotionBleFramer``). Bytes that start
  no frame are dropped and counted in the codec's ``CodecStats``
  (``resyncs``, ``bytes_discarded``, ``crc_errors``), never raised.
* **``parse(frame)``**: one complete frame -> its events, in plain Python
  (``struct`` for the fields; :func:`.blocks.new_block` turns a frame's samples
  into one :class:`~motorlab.devices.base.SampleBlock` with a single array
  creation). It keeps only the stream state the protocol needs (time base,
  sample index, commands in flight, scales from an INFO reply).
* **``feed(data) -> list[CodecEvent]``**: the live path. ``data`` is what the
  transport delivers at once: one BLE notification, or one serial read. It runs
  the framer, then ``parse`` on each frame, then :func:`.blocks.join_runs` so
  that contiguous samples of one call come out as one block. It never raises:
  malformed input only moves counters in ``stats`` (``benchmarks/fuzz_codecs.py``
  and ``tests/test_codec_fuzz.py`` check this for every codec).
* **``encode(command) -> bytes``**: raises only its documented error (``ValueError``,
  or ``DeviceError`` for the open protocol) for a command or value the device lacks.
* **``feed_bulk(data)``** (optional): replay of a long capture. Vectorised NumPy
  decoding pays only here (thousands of frames in one call; see
  :mod:`.bulk_framing`); it must give exactly the events and statistics of
  ``feed(data)`` (a test checks it) and falls back to ``feed`` for anything it
  does not handle.

Adding a codec: a module in this shape, a ``FuzzTarget`` in :mod:`.fuzzing`, and a
case in ``benchmarks/bench_codecs.py``.
"""
