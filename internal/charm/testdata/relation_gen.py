# Writes relation.golden: what the Python vsphere-integrator publishes
# (json.dumps(value, sort_keys=True) per key) for the values in
# charm_test.go's trickyData. Run: python3 relation_gen.py > relation.golden
import json

values = {
    "vsphere_ip": "127.0.0.1:PORT",
    "user": "k8s@vsphere.local",
    "password": "p\"a\\s#s;<>&\u00e9\U0001F600 x",
    "datacenter": "DC0",
    "datastore": "LocalDS_0",
    "folder": "juju-kubernetes",
    "respool_path": "",
}
for k in sorted(values):
    print(k + "\t" + json.dumps(values[k], sort_keys=True))
