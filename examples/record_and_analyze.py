"""Record a short maximal-grip task on the emulated dynamometer, then analyse it.

The same code drives a real device: replace the URL with e.g.
``serial:///dev/ttyUSB0?protocol=motorlab`` or ``ble://Progressor_1234?protocol=tindeq``.

    python examples/record_and_analyze.py [OUTPUT_DIR]
"""

import asyncio
import sys
import tempfile

from motorlab.analysis import analyze_recording
from motorlab.devices import open_device
from motorlab.session import LiveSnapshot, Recorder, RecordingTarget, grip_protocol
from motorlab.storage import read_recording


async def main(out: str) -> None:
    protocol = grip_protocol(trials=2, hands=("right",), countdown_s=0.5, squeeze_s=1.5, rest_s=0.5)
    async with await open_device("sim://grip?seed=3&peak_n=280") as device:
        recorder = Recorder(device, protocol, RecordingTarget(out, "P001"))
        started: set[int] = set()

        def show(snapshot: LiveSnapshot) -> None:  # any view subscribes to the live state
            step = snapshot.step
            if step.kind == "trial" and step.trial_index not in started:
                started.add(step.trial_index)
                print(f"trial {step.trial_index} of {step.trial_total} starts: {step.text}")

        recorder.subscribe(show)
        result = await recorder.run()
    print(f"stored {result.path} ({result.n_samples} samples)")
    rec = read_recording(result.path)
    print(rec)
    for row in analyze_recording(rec).to_rows():
        if row["row"] == "trial":
            print(
                f"trial {row['trial']}: peak {row['peak_force_N']:.1f} N "
                f"({row['peak_force_kgf']:.2f} kgf), time to peak {row['time_to_peak_s']:.3f} s"
            )
        else:
            print(
                f"{row['hand']} hand: mean {row['mean_of_3_N']:.1f} N, CV {row['between_trial_cv_pct']:.1f} %"
            )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="motorlab-example-")))
