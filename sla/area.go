package sla

import "strings"

// Area is the part of the platform a fault is about, for the statistics'
// most frequent problem areas (C8).
type Area string

// Problem areas, from the most specific to the least.
const (
	AreaStorage     Area = "storage"
	AreaCompute     Area = "compute"
	AreaQuery       Area = "query"
	AreaStreaming   Area = "streaming"
	AreaNetwork     Area = "network"
	AreaHardware    Area = "hardware"
	AreaAccess      Area = "access"
	AreaPerformance Area = "performance"
	AreaOther       Area = "other"
)

// Areas lists every area in the order ProblemArea tries them.
var Areas = []Area{AreaStorage, AreaCompute, AreaQuery, AreaStreaming, AreaNetwork, AreaHardware, AreaAccess, AreaPerformance, AreaOther}

var areaWords = map[Area][]string{
	AreaStorage:     {"hdfs", "namenode", "datanode", "hbase", "disk", "storage", "磁盘", "存储", "硬盘", "空间不足", "文件系统", "file system", "filesystem"},
	AreaCompute:     {"yarn", "spark", "mapreduce", "resourcemanager", "nodemanager", "job", "作业", "任务", "调度", "计算"},
	AreaQuery:       {"hive", "impala", "presto", "sql", "query", "查询", "数据库", "database", "报表"},
	AreaStreaming:   {"kafka", "flink", "stream", "消息", "流"},
	AreaNetwork:     {"network", "网络", "connection", "连接", "timeout", "超时", "dns", "交换机", "switch"},
	AreaHardware:    {"server", "服务器", "hardware", "硬件", "power", "电源", "内存", "memory", "cpu", "机房"},
	AreaAccess:      {"kerberos", "login", "登录", "登陆", "permission", "权限", "认证", "password", "密码", "access"},
	AreaPerformance: {"slow", "慢", "性能", "performance", "latency", "延迟", "卡"},
}

// ProblemArea names the area a fault's description is about: the first
// area, in the order of Areas, one of whose words the text contains.
func ProblemArea(text string) Area {
	t := strings.ToLower(text)
	for _, a := range Areas {
		for _, w := range areaWords[a] {
			if strings.Contains(t, w) {
				return a
			}
		}
	}
	return AreaOther
}
