"""VpcNetwork: a VPC spanning the cluster's zones, with public subnets (load balancers, NAT gateways) and private
subnets (every node, and the EKS control-plane network interfaces), tagged for ELB and Karpenter discovery."""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws
from pulumi import ResourceOptions

from spec.clouds.aws import zone_cidrs


class VpcNetworkArgs(TypedDict):
    cluster_name: str
    """EKS cluster name; subnets carry `kubernetes.io/cluster/<name>` and `karpenter.sh/discovery: <name>`."""
    cidr: str
    """VPC IPv4 CIDR, validated by spec/clouds/aws.py (/16 to /20, private)."""
    zones: Sequence[str]
    """Availability zones, one public and one private subnet each."""
    single_nat_gateway: bool
    """One NAT gateway for all zones (cheaper) instead of one per zone (survives a zone outage)."""
    subnet_cidrs: dict
    """Zone -> (private, public) CIDRs that override the default layout (`llmfleet:cluster.aws.subnetCidrs`)."""
    tags: dict
    """Tags for every resource, on top of the Name tag."""


class VpcNetwork(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    """The VPC."""
    private_subnet_ids: dict
    """Zone -> private subnet id (nodes)."""
    public_subnet_ids: dict
    """Zone -> public subnet id (internet-facing load balancers, NAT gateways)."""

    def __init__(self, name: str, args: VpcNetworkArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:aws:VpcNetwork", name, None, opts)
        child = ResourceOptions(parent=self)
        cluster, zones, tags = args["cluster_name"], list(args["zones"]), dict(args["tags"])

        def named(n: str, **extra) -> dict:
            return {**tags, "Name": n, **extra}

        # DNS hostnames and support are required for the EKS private endpoint and for node registration.
        self.vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args["cidr"], enable_dns_hostnames=True,
                               enable_dns_support=True, tags=named(f"{cluster}-vpc"), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags=named(f"{cluster}-igw"), opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=named(f"{cluster}-public"), opts=child)

        owned = {f"kubernetes.io/cluster/{cluster}": "shared"}
        self.private_subnet_ids, self.public_subnet_ids = {}, {}
        nats = []
        for i, zone in enumerate(zones):
            private_cidr, public_cidr = zone_cidrs(args["cidr"], zone, args.get("subnet_cidrs"))
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}", vpc_id=self.vpc.id, cidr_block=public_cidr, availability_zone=zone,
                # Nothing launched here needs a public IP by default: NAT gateways get Elastic IPs, and
                # internet-facing load balancers allocate their own.
                map_public_ip_on_launch=False,
                tags=named(f"{cluster}-public-{zone}", **owned, **{"kubernetes.io/role/elb": "1"}), opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{zone}", subnet_id=public.id, route_table_id=public_rt.id,
                                          opts=child)
            self.public_subnet_ids[zone] = public.id
            if i == 0 or not args["single_nat_gateway"]:
                eip = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags=named(f"{cluster}-nat-{zone}"), opts=child)
                nats.append(aws.ec2.NatGateway(
                    f"{name}-nat-{zone}", allocation_id=eip.id, subnet_id=public.id,
                    tags=named(f"{cluster}-nat-{zone}"), opts=ResourceOptions(parent=self, depends_on=[igw])))
            nat = nats[-1]
            private = aws.ec2.Subnet(
                f"{name}-private-{zone}", vpc_id=self.vpc.id, cidr_block=private_cidr, availability_zone=zone,
                tags=named(f"{cluster}-private-{zone}", **owned, **{"kubernetes.io/role/internal-elb": "1",
                                                                   "karpenter.sh/discovery": cluster}),
                opts=child)
            private_rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{zone}", vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags=named(f"{cluster}-private-{zone}"), opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{zone}", subnet_id=private.id,
                                          route_table_id=private_rt.id, opts=child)
            self.private_subnet_ids[zone] = private.id

        self.register_outputs({"vpcId": self.vpc.id, "privateSubnetIds": list(self.private_subnet_ids.values()),
                               "publicSubnetIds": list(self.public_subnet_ids.values())})
