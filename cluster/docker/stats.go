package docker

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/kmschaos/kmschaos/cluster"
)

// MemoryUsage is the memory each container of run uses, as `docker stats`
// counts it (usage less inactive page cache), by container name, and
// their total.
func MemoryUsage(ctx context.Context, dc client.APIClient, run string) (map[string]uint64, uint64, error) {
	res, err := dc.ContainerList(ctx, client.ContainerListOptions{Filters: client.Filters{}.Add("label", cluster.LabelRun+"="+run)})
	if err != nil {
		return nil, 0, err
	}
	out := map[string]uint64{}
	var total uint64
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, ctr := range res.Items {
		wg.Add(1)
		go func(id, name string) {
			defer wg.Done()
			used, _, err := containerMemory(ctx, dc, id)
			if err == nil {
				mu.Lock()
				out[name] = used
				total += used
				mu.Unlock()
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}(ctr.ID, ctr.Names[0])
	}
	wg.Wait()
	return out, total, firstErr
}

// containerMemory is what one container uses, as `docker stats` counts it
// (usage less inactive page cache), and its limit as the kernel applies
// it (the host's memory when the container has none).
func containerMemory(ctx context.Context, dc client.APIClient, id string) (used, limit uint64, err error) {
	st, err := dc.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if err != nil {
		return 0, 0, err
	}
	defer st.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(st.Body).Decode(&s); err != nil {
		return 0, 0, err
	}
	used = s.MemoryStats.Usage
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := s.MemoryStats.Stats[k]; ok && v < used {
			used -= v
			break
		}
	}
	return used, s.MemoryStats.Limit, nil
}
