"""One verdict on a request or a call: the doctor, lint and diff, reading recordings, and the checks for your tests."""
