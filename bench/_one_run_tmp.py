import json, os, sys
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
from sandbox.azurite import start_azurite
from bench.run import throughput
def main():
  subs = int(sys.argv[1]); twins = int(sys.argv[2]); budget = sys.argv[3] if len(sys.argv) > 3 else "fleet"
  az = start_azurite()
  try:
    r = throughput(az.connection_string, subs, twins, hosts=4, budget=budget)
  finally:
    az.stop()
  print(json.dumps(r, indent=1))
if __name__ == "__main__":
  main()
