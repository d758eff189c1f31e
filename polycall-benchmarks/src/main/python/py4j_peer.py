"""The Py4J side of the cross-language benchmark: a Python object Java calls through Py4J.

Started by io.polycall.bench.Py4jPeer with the Java and Python ports as arguments; it serves
until Java shuts the gateway down.
"""

import sys

from py4j.clientserver import ClientServer, JavaParameters, PythonParameters


class Target:
    def noop(self):
        return None

    def echo(self, data):
        return data

    class Java:
        implements = ["io.polycall.bench.Py4jPeer$Target"]


def main() -> None:
    java_port, python_port = int(sys.argv[1]), int(sys.argv[2])
    ClientServer(
        java_parameters=JavaParameters(port=java_port),
        python_parameters=PythonParameters(port=python_port),
        python_server_entry_point=Target(),
    )
    print("ready", flush=True)


if __name__ == "__main__":
    main()
